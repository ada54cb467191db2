/**
 * The AWS JSON-protocol services the project calls, as the client needs to know them. The
 * values are those of each service's Smithy model (signing name, target prefix, JSON version)
 * and SDK v3's rule for the `AWS_ENDPOINT_URL_<SERVICE>` variable (the service id, upper case,
 * spaces to underscores).
 */
import type { AwsService } from './config';

export const DYNAMODB: AwsService = {
  name: 'DynamoDB',
  signingName: 'dynamodb',
  endpointPrefix: 'dynamodb',
  targetPrefix: 'DynamoDB_20120810',
  jsonVersion: '1.0',
  endpointVariable: 'DYNAMODB',
};

export const SECRETS_MANAGER: AwsService = {
  name: 'SecretsManager',
  signingName: 'secretsmanager',
  endpointPrefix: 'secretsmanager',
  targetPrefix: 'secretsmanager',
  jsonVersion: '1.1',
  endpointVariable: 'SECRETS_MANAGER',
};

export const KMS: AwsService = {
  name: 'KMS',
  signingName: 'kms',
  endpointPrefix: 'kms',
  targetPrefix: 'TrentService',
  jsonVersion: '1.1',
  endpointVariable: 'KMS',
};

export const COGNITO_IDENTITY_PROVIDER: AwsService = {
  name: 'CognitoIdentityProvider',
  signingName: 'cognito-idp',
  endpointPrefix: 'cognito-idp',
  targetPrefix: 'AWSCognitoIdentityProviderService',
  jsonVersion: '1.1',
  endpointVariable: 'COGNITO_IDENTITY_PROVIDER',
};
