/**
 * The client's protobuf reader: the shared wire reader (util/protobuf-wire.ts) failing with the client's
 * PROTOCOL error.
 */
import { WireReader } from '../../util/protobuf-wire.js';
import { ClientCodes, ClientError } from './errors.js';

export { WT_I32, WT_I64, WT_LEN, WT_VARINT } from '../../util/protobuf-wire.js';

export function malformed(what: string): ClientError {
  return new ClientError(ClientCodes.PROTOCOL, `malformed native frame: ${what}`);
}

export class Reader extends WireReader {
  constructor() {
    super(malformed);
  }
}
