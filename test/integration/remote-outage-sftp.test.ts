// A remote repository on a real OpenSSH server (SFTP) that goes away or freezes while a backup
// runs; the tests are in test/support/remote-outage-suites.ts, shared with the other remote kind.
import { remoteKind } from '../support/remote-outage.js';
import { outageWhileRunning } from '../support/remote-outage-suites.js';

outageWhileRunning(remoteKind('SFTP'));
