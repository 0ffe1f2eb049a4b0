import { Size } from 'aws-cdk-lib';

/** Defaults of the props that more than one part of the construct reads. */
export const DEFAULTS = {
  vcpu: 2,
  memory: Size.gibibytes(4),
  outputPrefix: 'results/',
  uploadPrefix: 'uploads/',
};
