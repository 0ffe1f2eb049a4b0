/**
 * The messages between the engine (src/engine.ts, the parent) and its OCR child process
 * (src/child.ts), over the IPC channel with `serialization: 'advanced'` (so bytes travel as bytes).
 */
import type { DocumentOutcome } from './document.ts';
import type { ErrorInfo } from './errors.ts';
import type { MediaType } from './media.ts';
import type { DocumentOptions } from './options.ts';

/** Parent -> child: read one document. `id` names the document in the child's answers. */
export interface ProcessMessage { type: 'process'; id: number; bytes: Uint8Array; mediaType: MediaType; options: DocumentOptions }
/** Parent -> child: stop the OCR workers and exit. */
export interface ExitMessage { type: 'exit' }
export type ParentMessage = ProcessMessage | ExitMessage;

/** Child -> parent: the OCR workers are warm. `ocrVersion`: the OCR backend's version; `popplerVersion`: pdftoppm's, with that renderer. */
export interface ReadyMessage { type: 'ready'; ocrVersion: string; popplerVersion?: string }
/** Child -> parent: the child cannot start (it exits next). */
export interface FatalMessage { type: 'fatal'; message: string }
/** Child -> parent: one more page of document `id` is done. */
export interface ProgressMessage { type: 'progress'; id: number; done: number; total: number; pageNumber: number }
/** Child -> parent: document `id` has handed all its pages to the OCR pool; a next document may join the child. */
export interface DispatchedMessage { type: 'dispatched'; id: number }
/**
 * Child -> parent: document `id`'s pages are read and its other outputs (searchable PDF, hOCR) are
 * being written. Sent only when such outputs were asked for: if writing them overruns the
 * document's bounds, the parent still has the JSON result. `outcome` has no `outputs`.
 */
export interface PagesReadMessage { type: 'pages-read'; id: number; outcome: DocumentOutcome }
/** Child -> parent: document `id` is read. */
export interface DoneMessage { type: 'done'; id: number; outcome: DocumentOutcome }
/** Child -> parent: document `id` failed as a whole. */
export interface ErrorMessage { type: 'error'; id: number; error: ErrorInfo }
/** The child's messages about one document. */
export type DocumentMessage = ProgressMessage | DispatchedMessage | PagesReadMessage | DoneMessage | ErrorMessage;
export type ChildMessage = ReadyMessage | FatalMessage | DocumentMessage;

export function isDocumentMessage(m: ChildMessage | null | undefined): m is DocumentMessage {
  return !!m && 'id' in m;
}
