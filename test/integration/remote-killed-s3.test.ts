// A remote repository on s3rver (S3) that sees a backup killed while it uploads; the tests are in
// test/support/remote-outage-suites.ts, shared with the other remote kind.
import { remoteKind } from '../support/remote-outage.js';
import { killedWhileUploading } from '../support/remote-outage-suites.js';

killedWhileUploading(remoteKind('S3'));
