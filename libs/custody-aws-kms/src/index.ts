export { AwsKmsCustodian, type AwsKmsCustodianOptions } from './aws-kms-custodian.js';
export { DEFAULT_RETRY, type RetryPolicy } from './kms-calls.js';
