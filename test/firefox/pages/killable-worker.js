// The ssemux worker (ssemux/worker), unchanged, plus a way for a test to end it while its tabs
// live on: Firefox's WebDriver BiDi lists worker realms but can neither evaluate in them nor close
// them (Chromium's suite uses CDP's Target.closeTarget). close() ends the worker's global as
// termination does: its ports go dead and its Web Locks are released, which is how tabs learn
// that it is gone.
importScripts('/dist/ssemux-worker.js');
new BroadcastChannel('ssemux-test:kill-worker').onmessage = () => close();
