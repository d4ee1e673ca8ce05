// A remote repository on s3rver (S3) that is down before a backup starts; the tests are in
// test/support/remote-outage-suites.ts, shared with the other remote kind.
import { remoteKind } from '../support/remote-outage.js';
import { outageAtStart } from '../support/remote-outage-suites.js';

outageAtStart(remoteKind('S3'));
