'use strict';
// Thin loader: the C side does the work. Named exports are spelled out so Node's CJS
// lexer exposes them to ESM importers (`import { openInet } from '@halb/rawsock'`).
const binding = require('./build/Release/rawsock.node');

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
