'use strict';
// Thin loader: the C side does the work. Named exports are spelled out so Node's CJS
// lexer exposes them to ESM importers.
const binding = require('./build/Release/relay.node');

exports.start = binding.start;
exports.abort = binding.abort;
