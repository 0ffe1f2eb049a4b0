/** Public API of the OCR worker, for every mode (CLI, Batch, HTTP service). */
export { createEngine, EngineInfrastructureError, WORKER_VERSION, sha256 } from './engine.ts';
export { outputBytes } from './engine-result.ts';
export type { Engine, EngineOptions, EngineState, EngineStats, ProcessRequest } from './engine.ts';
export { ERROR_CODES, OcrError } from './errors.ts';
export type { ErrorCode, ErrorInfo } from './errors.ts';
export { validateResult, resultSchema, SCHEMA_VERSION, PAGE_SEPARATOR } from './result.ts';
export type { OcrResult, PageResult, QrCode } from './result.ts';
export { RESULT_SCHEMA_PATH } from './paths.ts';
export { availableCpus, DEFAULTS, parsePageRange } from './options.ts';
export type { DocumentOptions, OutputFormat } from './options.ts';
export type { BoundingBox, Line, Word } from './geometry.ts';
export { SUPPORTED_MEDIA_TYPES, detectMediaType } from './media.ts';
export { TEXT_LAYER_CRITERIA } from './textlayer.ts';
