import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { fromIni } from '@aws-sdk/credential-providers';
import { loadConfig } from '@smithy/core/config';
import { StorageError } from '../storage.js';
import type { S3Options } from './open-s3.js';
import { withoutNodeVersionNotice } from './sdk-notices.js';
import type { S3Location } from './s3-url.js';

type CredentialsSource = NonNullable<S3ClientConfig['credentials']>;
type RegionSource = NonNullable<S3ClientConfig['region']>;

const DEFAULT_REGION = 'us-east-1';

/**
 * The SDK client for a repository. Only what every S3 implementation answers the same way is
 * switched on: no checksum headers unless an operation requires them (servers other than AWS
 * store streamed, checksummed uploads with their chunk framing inside, or refuse them).
 */
export function createS3Client(place: S3Location, options: S3Options, base: string): S3Client {
  const credentials = credentialsFrom(options, base, place.printable);
  return withoutNodeVersionNotice(
    () =>
      new S3Client({
        region: regionFrom(place, options.profile),
        ...(place.endpoint === undefined ? {} : { endpoint: place.endpoint }),
        forcePathStyle: place.pathStyle,
        ...(credentials === undefined ? {} : { credentials }),
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        // Retries belong to the wrapper around every backend. One quick retry of the SDK's own
        // stays: it alone can correct a skewed clock or replace a pooled connection the server
        // had closed.
        maxAttempts: 2,
        // Without timeouts a server that stops answering would hold a backup forever.
        requestHandler: { connectionTimeout: 10_000, socketTimeout: 30_000 },
      }),
  );
}

/**
 * The region from the URL, else AWS_REGION (or the CLI's AWS_DEFAULT_REGION), else the profile's
 * `region` in the AWS config files, else us-east-1. Unlike the SDK's own default this never asks
 * the EC2 instance metadata service, and never fails for want of a region: S3-compatible servers
 * mostly ignore it.
 */
function regionFrom(place: S3Location, profile: string | undefined): RegionSource {
  if (place.region !== undefined) return place.region;
  return loadConfig<string>(
    {
      environmentVariableSelector: (env) => env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
      configFileSelector: (section) => section.region,
      default: () => DEFAULT_REGION,
    },
    profile === undefined ? {} : { profile },
  );
}

/**
 * Key files first, then a named profile (through the SDK's ini provider: static keys, assumed
 * roles, SSO, credential_process), else undefined, which leaves the SDK's default chain
 * (AWS_ACCESS_KEY_ID and friends, AWS_PROFILE, container and instance roles).
 */
function credentialsFrom(
  options: S3Options,
  base: string,
  printable: string,
): CredentialsSource | undefined {
  const { accessKeyIdFile, secretAccessKeyFile, profile } = options;
  if (accessKeyIdFile !== undefined || secretAccessKeyFile !== undefined) {
    if (accessKeyIdFile === undefined || secretAccessKeyFile === undefined)
      throw new StorageError(
        `${printable}: give both accessKeyIdFile and secretAccessKeyFile, or neither`,
        'io',
      );
    return keysFromFiles(resolve(base, accessKeyIdFile), resolve(base, secretAccessKeyFile));
  }
  if (profile !== undefined) return fromIni({ profile });
  return undefined;
}

/** Reads the two files at the first request (and again after a failure, once they are fixed). */
function keysFromFiles(idFile: string, secretFile: string): CredentialsSource {
  let loading: Promise<{ accessKeyId: string; secretAccessKey: string }> | undefined;
  return () => {
    // One after the other: when both are wrong, the message names the same one every time.
    const read = async () => ({
      accessKeyId: await readKeyFile(idFile, 'access key id'),
      secretAccessKey: await readKeyFile(secretFile, 'secret access key'),
    });
    loading ??= read().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
}

/** A key file's content without the newline an editor or `echo` leaves at its end. */
async function readKeyFile(path: string, what: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new StorageError(`cannot read the S3 ${what} from ${path} (${reason})`, 'denied', {
      cause: error,
    });
  }
  const key = text.trim();
  if (key === '') throw new StorageError(`the S3 ${what} file ${path} is empty`, 'denied');
  return key;
}
