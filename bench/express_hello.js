// Express hello-world, the Node baseline of bench/webhook_ingest.py: the same cluster of
// WORKERS processes as the Node peer, answering POST /webhooks without reading the body (as the
// Flask hello-world does). Run from the folder where the peer's node_modules were installed.
const cluster = require('node:cluster');
const express = require('express');

const workers = Number(process.env.WORKERS || 1);
if (cluster.isPrimary && workers > 1) {
  for (let i = 0; i < workers; i++) cluster.fork();
} else {
  const app = express();
  app.post('/webhooks', (req, res) => res.send('ok'));
  app.listen(Number(process.env.PORT), '127.0.0.1');
}
