import * as path from 'path';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecr_assets from 'aws-cdk-lib/aws-ecr-assets';
import { Construct } from 'constructs';

/**
 * The bundled OCR worker (assets/ocr-worker). The same relative path works from src/ (ts-jest)
 * and from lib/ (compiled), both two levels below the package root.
 */
export const WORKER_DIRECTORY = path.join(__dirname, '..', '..', 'assets', 'ocr-worker');

export interface WorkerImageOptions {
  /** Build context; only tests point this elsewhere. @default WORKER_DIRECTORY */
  readonly directory?: string;
}

/**
 * The OCR worker image built from the bundled worker as a CDK Docker image asset (linux/amd64,
 * the platform Fargate and the worker's native dependencies are tested on). The asset hash is
 * the hash of the build context, never time-based.
 */
export function workerImageAsset(scope: Construct, id: string, options: WorkerImageOptions = {}): ecr_assets.DockerImageAsset {
  return new ecr_assets.DockerImageAsset(scope, id, {
    directory: options.directory ?? WORKER_DIRECTORY,
    platform: Platform.LINUX_AMD64,
    exclude: ['node_modules', 'test', 'bench', 'scratch', '**/*.test.ts'],
  });
}

/** Same folder as WORKER_DIRECTORY (the name OcrServiceCluster uses). */
export const WORKER_IMAGE_DIRECTORY = WORKER_DIRECTORY;

/** `workerImageAsset` with the default id, as OcrServiceCluster calls it. */
export function workerImage(scope: Construct, id = 'WorkerImage'): ecr_assets.DockerImageAsset {
  return workerImageAsset(scope, id);
}
