export { Chunker, DEFAULT_CHUNKER_PARAMS, chunkStream } from './fastcdc.js';
export type { ChunkerParams, ScanState } from './fastcdc.js';
export { createGearTable, GEAR_SEED_LENGTH } from './gear-table.js';
