// The SharedWorker entry: one hub for every tab of the origin. Built into dist/ssemux-worker.js.
import { serveSharedWorker, type SharedWorkerScope } from '../src/sharing/shared-worker-host.js';

serveSharedWorker(self as unknown as SharedWorkerScope);
