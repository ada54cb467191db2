/**
 * The table of "Amazon API Gateway important notes for REST APIs", the `lambda` column, as
 * AWS publishes it: what API Gateway does to each header on its way to a Lambda integration
 * (request) and on its way back (response).
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-known-issues.html
 *
 * Two cells are read with non-AWS evidence where AWS's own words do not settle them:
 * `Transfer-Encoding` on the request is "Exception" (the body arrives de-chunked, the header
 * gone: modelled as dropped), and `Content-Length` on the request, "Passthrough (generated
 * based on body)", is absent from the event's headers in AWS-recorded events (LocalStack's
 * snapshots, non-AWS evidence).
 */
export type RequestRule = 'passthrough' | 'dropped';
export type ResponseRule = 'passthrough' | 'remapped' | 'remapped-overwritten' | 'dropped';

export const DOCUMENTED_HEADERS: readonly [
  name: string,
  request: RequestRule,
  response: ResponseRule,
][] = [
  ['Age', 'passthrough', 'passthrough'],
  ['Accept', 'passthrough', 'passthrough'],
  ['Accept-Charset', 'passthrough', 'passthrough'],
  ['Accept-Encoding', 'passthrough', 'passthrough'],
  ['Authorization', 'passthrough', 'remapped'],
  ['Connection', 'dropped', 'remapped'],
  ['Content-Encoding', 'passthrough', 'passthrough'],
  ['Content-Length', 'dropped', 'passthrough'],
  ['Content-MD5', 'dropped', 'remapped'],
  ['Content-Type', 'passthrough', 'passthrough'],
  ['Date', 'passthrough', 'remapped-overwritten'],
  ['Expect', 'dropped', 'dropped'],
  ['Host', 'passthrough', 'dropped'],
  ['Max-Forwards', 'dropped', 'remapped'],
  ['Pragma', 'passthrough', 'passthrough'],
  ['Proxy-Authenticate', 'dropped', 'dropped'],
  ['Range', 'passthrough', 'passthrough'],
  ['Referer', 'passthrough', 'passthrough'],
  ['Server', 'dropped', 'remapped-overwritten'],
  ['TE', 'dropped', 'dropped'],
  ['Transfer-Encoding', 'dropped', 'dropped'],
  ['Trailer', 'dropped', 'dropped'],
  ['Upgrade', 'dropped', 'dropped'],
  ['User-Agent', 'passthrough', 'remapped'],
  ['Via', 'passthrough', 'dropped'],
  ['Warn', 'passthrough', 'passthrough'],
  ['WWW-Authenticate', 'dropped', 'remapped'],
];
