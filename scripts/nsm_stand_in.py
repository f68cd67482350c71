#!/usr/bin/python3
"""The session manager's side of the NSM protocol (as new-session-manager's nsmd speaks it), over real
UDP on 127.0.0.1, driven one command per line on stdin, for Sideman's tests on machines without nsmd
(Debian 12 does not package it). Prints `port N` first. Commands:
  wait             -> got ADDRESS|ARG|ARG...  (the next message from the client, 20 s at most; `timeout`)
  reply-announce   answers the client's announce
  open PATH NAME ID  sends /nsm/client/open
  save             sends /nsm/client/save
"""
import socket
import struct
import sys


def padded(data):
    return data + b"\0" * (4 - len(data) % 4)


def message(address, *arguments):
    tags = "," + "".join("i" if isinstance(a, int) else "s" for a in arguments)
    out = padded(address.encode()) + padded(tags.encode())
    for a in arguments:
        out += struct.pack(">i", a) if isinstance(a, int) else padded(a.encode())
    return out


def parse(data):
    def text(at):
        end = data.index(b"\0", at)
        return data[at:end].decode(), (end + 4) // 4 * 4
    address, at = text(0)
    tags, at = text(at)
    arguments = []
    for tag in tags[1:]:
        if tag == "i":
            arguments.append(str(struct.unpack(">i", data[at:at + 4])[0]))
            at += 4
        elif tag == "s":
            value, at = text(at)
            arguments.append(value)
    return [address] + arguments


sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", 0))
sock.settimeout(20)
client = None
print("port %d" % sock.getsockname()[1], flush=True)
for line in sys.stdin:
    words = line.split()
    if not words:
        continue
    if words[0] == "wait":
        try:
            data, client = sock.recvfrom(65536)
            print("got " + "|".join(parse(data)), flush=True)
        except socket.timeout:
            print("timeout", flush=True)
    elif words[0] == "reply-announce":
        sock.sendto(message("/reply", "/nsm/server/announce", "welcome", "stand-in", ":server-control:"), client)
    elif words[0] == "open":
        sock.sendto(message("/nsm/client/open", words[1], words[2], words[3]), client)
    elif words[0] == "save":
        sock.sendto(message("/nsm/client/save"), client)
