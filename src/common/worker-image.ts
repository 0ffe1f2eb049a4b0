import * as path from 'path';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecr_assets from 'aws-cdk-lib/aws-ecr-assets';
import { Construct } from 'constructs';

/**
 * The OCR worker's source folder. `path.join(__dirname, '..', '..', ...)` is the same folder from
 * `src/common` (tests through ts-jest) and from `lib/common` (the compiled package).
 */
export const WORKER_IMAGE_DIRECTORY = path.join(__dirname, '..', '..', 'assets', 'ocr-worker');

/**
 * The OCR worker image built from `assets/ocr-worker` (linux/amd64) as a Docker image asset.
 * Constructs use it when the user passes no image of their own.
 */
export function workerImage(scope: Construct, id = 'WorkerImage'): ecr_assets.DockerImageAsset {
  return new ecr_assets.DockerImageAsset(scope, id, {
    directory: WORKER_IMAGE_DIRECTORY,
    platform: Platform.LINUX_AMD64,
  });
}
