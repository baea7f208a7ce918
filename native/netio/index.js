'use strict';
// Thin loader: the C side does the work. node-gyp-build loads build/Release (a checkout, built
// by the root package's prepare script) or else the prebuild for this platform (the npm
// package). Named exports are spelled out so Node's CJS lexer exposes them to ESM importers.
const binding = require('node-gyp-build')(__dirname);

exports.relayStart = binding.relayStart;
exports.relayAbort = binding.relayAbort;
exports.connInit = binding.connInit;
exports.connOpen = binding.connOpen;
exports.connSetReadBuffer = binding.connSetReadBuffer;
exports.connWrite = binding.connWrite;
exports.connPending = binding.connPending;
exports.connPause = binding.connPause;
exports.connEnd = binding.connEnd;
exports.connDestroy = binding.connDestroy;
exports.connSetTimeout = binding.connSetTimeout;
exports.connDetach = binding.connDetach;
exports.connRef = binding.connRef;
exports.connForward = binding.connForward;
exports.connForwardClose = binding.connForwardClose;
exports.scanResponseHead = binding.scanResponseHead;
exports.reuseportSpread = binding.reuseportSpread;
exports.tlsInit = binding.tlsInit;
exports.tlsContext = binding.tlsContext;
exports.connOpenTls = binding.connOpenTls;
exports.connTlsFacts = binding.connTlsFacts;
