// Backstage's catalog backend and nothing else, for bench/peers.py (bench/README.md,
// "Side by side with Backstage"). Configuration: app-config.yaml here, plus the overlay
// bench/peers.py writes for each run (port, catalog file, processing interval), passed as
// `node backend.js --config app-config.yaml --config <overlay>`.
'use strict';

const { createBackend } = require('@backstage/backend-defaults');

const backend = createBackend();
backend.add(require('@backstage/plugin-catalog-backend'));
backend.start();
