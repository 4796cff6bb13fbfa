export { decodeFragment, encodeFragment, type Fragment } from './codec.js';
export { fragment } from './fragment.js';
export { Reassembler, type ReassemblerOptions, type ReassemblerStats } from './reassembler.js';
