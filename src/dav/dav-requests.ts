// PROPFIND and REPORT: an XML body out, a 207 Multi-Status back, anything else an error that
// names the request.
import { DavError } from './dav-error.js';
import type { DavHttp, DavHttpResponse, DavRequest } from './http-client.js';
import { parseMultistatus, type Multistatus } from './multistatus.js';
import { clark, NS } from './namespaces.js';
import { el, serializeXml, type XmlNode } from './xml-writer.js';

export const XML_CONTENT_TYPE = 'application/xml; charset=utf-8';

export interface MultistatusAnswer extends Multistatus {
  /** The URL that answered, after redirects: relative hrefs resolve against it. */
  url: URL;
}

export function xmlRequest(
  method: string,
  url: string | URL,
  body: XmlNode,
  depth?: DavRequest['depth'],
): DavRequest {
  return {
    method,
    url,
    depth,
    headers: { 'Content-Type': XML_CONTENT_TYPE },
    body: serializeXml(body),
  };
}

export function propfindRequest(
  url: string | URL,
  depth: '0' | '1',
  props: readonly string[],
): DavRequest {
  const D = (local: string): string => clark(NS.dav, local);
  return xmlRequest(
    'PROPFIND',
    url,
    el(D('propfind'), [
      el(
        D('prop'),
        props.map((name) => el(name)),
      ),
    ]),
    depth,
  );
}

/** Reads a 207 answer; `http.failure` for any other status. */
export function readMultistatus(
  http: DavHttp,
  request: DavRequest,
  response: DavHttpResponse,
): MultistatusAnswer {
  if (response.status !== 207) throw http.failure(request, response);
  try {
    return { ...parseMultistatus(response.body.toString('utf8')), url: response.url };
  } catch (error) {
    throw new DavError(
      'protocol',
      `${http.describe(request)}: unreadable answer: ${(error as Error).message}`,
      207,
      { cause: error },
    );
  }
}

export async function propfind(
  http: DavHttp,
  url: string | URL,
  depth: '0' | '1',
  props: readonly string[],
): Promise<MultistatusAnswer> {
  const request = propfindRequest(url, depth, props);
  return readMultistatus(http, request, await http.send(request));
}
