export {
  Chunker,
  DEFAULT_CHUNKER_PARAMS,
  MAX_CHUNK_SIZE,
  chunkStream,
  chunkerParamsProblem,
} from './fastcdc.js';
export type { ChunkerParams, ScanState } from './fastcdc.js';
export { createGearTable, GEAR_SEED_LENGTH } from './gear-table.js';
