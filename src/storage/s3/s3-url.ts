import { StorageError } from '../storage.js';

/** Where an S3 repository lives, as its URL says. */
export interface S3Location {
  bucket: string;
  /** The folder-like start of every key, without a slash at either end; '' for the bucket's root. */
  prefix: string;
  /** The server, for anything but AWS itself (MinIO, Ceph, Garage...). */
  endpoint?: string;
  /** Unset: taken from the AWS environment or config, else us-east-1. */
  region?: string;
  /** Bucket in the path (`host/bucket/key`) rather than in the host name (`bucket.host/key`). */
  pathStyle: boolean;
  /** The URL rebuilt from what was understood: safe to print, never holds a secret. */
  printable: string;
}

const PARAMETERS = ['endpoint', 'region', 'pathStyle'] as const;
type Parameter = (typeof PARAMETERS)[number];

/**
 * Reads `s3://bucket/prefix?endpoint=https://host:port&region=eu-west-1&pathStyle=true`.
 * Anything it cannot use is refused with the URL in the message (without user info or unknown
 * parameters' values, which is where a secret would be), so a typo never silently lands files
 * in another place.
 */
export function parseS3Url(url: URL): S3Location {
  const parameters = readParameters(url);
  const endpoint = parameters.endpoint && readEndpoint(parameters.endpoint, url);
  const printable = printableUrl(url, { ...parameters, endpoint });
  const fail = (why: string): never => {
    throw new StorageError(`${printable}: ${why}`, 'io');
  };
  if (url.protocol !== 's3:') fail('not an s3:// URL');
  if (url.username || url.password)
    fail(
      'credentials do not belong in the URL: use the access key files, a profile or the AWS environment',
    );
  if (url.port) fail('a port belongs to the server: give it as ?endpoint=https://host:port');
  const bucket = url.hostname;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/.test(bucket))
    fail(bucket ? `${JSON.stringify(bucket)} is not a bucket name` : 'the bucket name is missing');
  const prefix =
    readPrefix(url.pathname) ??
    fail('the prefix has an empty, "." or ".." part, or a bad %-escape');
  const region = parameters.region;
  if (region !== undefined && !/^[A-Za-z0-9_-]+$/.test(region))
    fail(`${JSON.stringify(region)} is not a region name`);
  const pathStyle = parameters.pathStyle ?? 'false';
  if (pathStyle !== 'true' && pathStyle !== 'false') fail('pathStyle must be true or false');
  return {
    bucket,
    prefix,
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(region === undefined ? {} : { region }),
    pathStyle: pathStyle === 'true',
    printable,
  };
}

function readParameters(url: URL): Partial<Record<Parameter, string>> {
  const known: Partial<Record<Parameter, string>> = {};
  const unknown: string[] = [];
  for (const [name, value] of url.searchParams) {
    if (!isParameter(name)) unknown.push(name);
    else if (known[name] !== undefined) throw badUrl(url, known, `${name} is given twice`);
    else known[name] = value;
  }
  if (unknown.length > 0)
    throw badUrl(
      url,
      known,
      `unknown parameter ${unknown.join(', ')} (known: ${PARAMETERS.join(', ')})`,
    );
  return known;
}

function isParameter(name: string): name is Parameter {
  return (PARAMETERS as readonly string[]).includes(name);
}

/** The endpoint as the SDK takes it: an http(s) origin, perhaps with a path. */
function readEndpoint(text: string, url: URL): string {
  let endpoint: URL;
  try {
    endpoint = new URL(text);
  } catch {
    throw badUrl(url, {}, 'the endpoint is not a URL (e.g. endpoint=https://host:9000)');
  }
  const fail = (why: string): never => {
    throw badUrl(url, { endpoint: withoutUserInfo(endpoint) }, why);
  };
  if (endpoint.protocol !== 'https:' && endpoint.protocol !== 'http:')
    fail('the endpoint must be an http:// or https:// URL');
  if (endpoint.username || endpoint.password)
    fail(
      'credentials do not belong in the endpoint: use the access key files, a profile or the AWS environment',
    );
  if (endpoint.search || endpoint.hash) fail('the endpoint cannot have a query or a fragment');
  return withoutUserInfo(endpoint);
}

function withoutUserInfo(endpoint: URL): string {
  const path = endpoint.pathname === '/' ? '' : endpoint.pathname.replace(/\/+$/, '');
  return `${endpoint.protocol}//${endpoint.host}${path}`;
}

/**
 * The key prefix from the URL's path; undefined when it has a bad %-escape or a part that is
 * empty, "." or ".." (decoded first, so an escaped slash counts as one).
 */
function readPrefix(pathname: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  const trimmed = decoded.replace(/^\/+/, '').replace(/\/+$/, '');
  if (trimmed === '') return '';
  const parts = trimmed.split('/');
  if (parts.some((part) => part === '' || part === '.' || part === '..')) return undefined;
  return trimmed;
}

function badUrl(url: URL, known: Partial<Record<Parameter, string>>, why: string): StorageError {
  return new StorageError(`${printableUrl(url, known)}: ${why}`, 'io');
}

/** The URL without user info, with only the parameters we know (the endpoint's user info gone). */
function printableUrl(url: URL, known: Partial<Record<Parameter, string>>): string {
  const query = PARAMETERS.flatMap((name) => {
    const value = name === 'endpoint' ? safeEndpoint(known.endpoint) : known[name];
    return value === undefined ? [] : [`${name}=${value}`];
  });
  return `${url.protocol}//${url.host}${url.pathname}${query.length > 0 ? `?${query.join('&')}` : ''}`;
}

function safeEndpoint(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  try {
    return withoutUserInfo(new URL(text));
  } catch {
    return '(not a URL)';
  }
}
