// A SharedWorker script that is not the ssemux worker: it takes connections and never answers.
self.onconnect = (event) => event.ports[0].start();
