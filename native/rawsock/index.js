'use strict';
// Thin loader: the C side does the work. node-gyp-build loads build/Release (a checkout, built
// by the root package's prepare script) or else the prebuild for this platform (the npm
// package). Named exports are spelled out so Node's CJS lexer exposes them to ESM importers.
const binding = require('node-gyp-build')(__dirname);

exports.openInet = binding.openInet;
exports.openPacket = binding.openPacket;
exports.close = binding.close;
exports.bindToDevice = binding.bindToDevice;
exports.bindAddress = binding.bindAddress;
exports.setHopLimit = binding.setHopLimit;
exports.setTrafficClass = binding.setTrafficClass;
exports.setDontFragment = binding.setDontFragment;
exports.setMulticastInterface = binding.setMulticastInterface;
exports.setMulticastLoop = binding.setMulticastLoop;
exports.joinGroup = binding.joinGroup;
exports.leaveGroup = binding.leaveGroup;
exports.setIcmp6Filter = binding.setIcmp6Filter;
exports.startReceiving = binding.startReceiving;
exports.setRef = binding.setRef;
exports.send = binding.send;
exports.sendFrame = binding.sendFrame;
exports.interfaceInfo = binding.interfaceInfo;
exports.addAddress = binding.addAddress;
exports.drain = binding.drain;
exports.pacerOpen = binding.pacerOpen;
exports.pacerSchedule = binding.pacerSchedule;
exports.pacerStop = binding.pacerStop;
exports.pacerStats = binding.pacerStats;
exports.pacerClose = binding.pacerClose;
