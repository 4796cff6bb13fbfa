/**
 * The native protocol's protobufjs types, built from the reflection JSON embedded at build time
 * (src/client/generated/, regenerated from the .proto by its generate.mjs): the client reads no file, so
 * it runs in browsers, and it needs only protobufjs/light (no .proto parser in a bundle).
 */
import protobuf from 'protobufjs/light.js';
import { nativeDescriptor } from '../generated/native-descriptor.js';

const root = protobuf.Root.fromJSON(nativeDescriptor as protobuf.INamespace);
root.resolveAll();

export const FrameType: protobuf.Type = root.lookupType('blaze.v1.Frame');
