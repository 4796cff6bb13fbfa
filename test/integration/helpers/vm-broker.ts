/**
 * A broker's side of vm:// for tests: one real native-protocol session over the given core per
 * `connectInProcess()`, bytes passed by call (what src/embedded.ts provides, minus its limits), with
 * hooks to end every connection or to lose the broker's answers from a chosen write on.
 */
import type { VmBroker } from '../../../src/client/index.js';
import type { Authenticator } from '../../../src/core/api.js';
import type { BlazeCore } from '../../../src/core/index.js';
import type { Transport } from '../../../src/net/transport.js';
import { nativeProtocol } from '../../../src/protocol/native/index.js';

const anonymous: Authenticator = {
  required: false,
  authenticate: (login) => Promise.resolve({ user: login ?? 'anonymous', anonymous: !login }),
};

export interface TestVmBroker extends VmBroker {
  /** Ends every open connection (as a broker restart would). */
  endAll(): void;
  /** The next client write is handled, but from then on that connection's answers are swallowed. */
  muteAfterNextWrite(): void;
  /** True while a requested mute has not happened yet. */
  readonly mutePending: boolean;
}

export function vmBroker(core: BlazeCore): TestVmBroker {
  const protocol = nativeProtocol({ core, authenticator: anonymous, producers: core.kv('native-producers') });
  const live = new Set<() => void>();
  let muteNext = false;
  return {
    endAll() {
      for (const end of [...live]) end();
    },
    muteAfterNextWrite() {
      muteNext = true;
    },
    get mutePending() {
      return muteNext;
    },
    connectInProcess() {
      let toClient: (bytes: Uint8Array) => void = () => {};
      let clientClosed: ((e?: Error) => void) | undefined;
      let closed = false;
      let muted = false;
      const end = () => {
        if (closed) return;
        closed = true;
        live.delete(end);
        session.onClose();
        clientClosed?.();
      };
      const transport: Transport = {
        write: (chunk) => {
          if (!closed && !muted) toClient(chunk);
          return true;
        },
        onDrain: () => {},
        pauseReading: () => {},
        resumeReading: () => {},
        end,
        destroy: end,
        remoteAddress: 'vm',
        get closed() {
          return closed;
        },
      };
      const session = protocol(transport);
      live.add(end);
      return {
        write: (bytes) => {
          if (muteNext) {
            muteNext = false;
            muted = true;
          }
          if (!closed) session.onData(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
        },
        onData: (cb) => {
          toClient = cb;
        },
        close: end,
        onClose: (cb) => {
          clientClosed = cb;
        },
      };
    },
  };
}
