import assert from "node:assert/strict";
import { test } from "node:test";
import { clientNetwork, compressIpv6, ipv6Groups, ipv6Nibbles, isPrivateAddress, networkAddress, plainAddress } from "../src/index.ts";

test("plainAddress: IPv4-mapped IPv6 as IPv4, anything else unchanged", () => {
  assert.equal(plainAddress("::ffff:192.0.2.1"), "192.0.2.1");
  assert.equal(plainAddress("::FFFF:192.0.2.1"), "192.0.2.1");
  assert.equal(plainAddress("2001:db8::1"), "2001:db8::1");
  assert.equal(plainAddress("192.0.2.1"), "192.0.2.1");
});

test("ipv6Groups: expands ::, embedded IPv4 and drops a zone id", () => {
  assert.deepEqual(ipv6Groups("2001:db8::1"), [0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
  assert.deepEqual(ipv6Groups("::"), [0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(ipv6Groups("::ffff:1.2.3.4"), [0, 0, 0, 0, 0, 0xffff, 0x102, 0x304]);
  assert.deepEqual(ipv6Groups("fe80::1%eth0"), [0xfe80, 0, 0, 0, 0, 0, 0, 1]);
  assert.deepEqual(ipv6Groups("1:2:3:4:5:6:7:8"), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(ipv6Nibbles("2001:db8::1"), "20010db8000000000000000000000001");
});

test("clientNetwork: IPv4 /24, IPv6 /64, mapped as IPv4, null for what is not an address", () => {
  assert.equal(clientNetwork("192.0.2.77"), "192.0.2.0/24");
  assert.equal(clientNetwork("::ffff:192.0.2.77"), "192.0.2.0/24");
  assert.equal(clientNetwork("2001:db8:0:12:a::1"), "2001:db8:0:12::/64");
  assert.equal(clientNetwork("2001:DB8::1"), "2001:db8:0:0::/64");
  assert.equal(clientNetwork("not-an-ip"), null);
});

test("networkAddress masks to the prefix; IPv6 in RFC 5952 text", () => {
  assert.equal(networkAddress("192.0.2.77", 24), "192.0.2.0");
  assert.equal(networkAddress("192.0.2.77", 20), "192.0.0.0");
  assert.equal(networkAddress("192.0.2.77", 32), "192.0.2.77");
  assert.equal(networkAddress("2001:db8:1:2:3:4:5:6", 48), "2001:db8:1::");
  assert.equal(networkAddress("2001:db8::1", 128), "2001:db8::1");
  assert.equal(compressIpv6([1, 0, 0, 2, 0, 0, 0, 3]), "1:0:0:2::3");
  assert.equal(compressIpv6([1, 0, 2, 3, 4, 5, 6, 7]), "1:0:2:3:4:5:6:7");
  assert.throws(() => networkAddress("example.com", 24), TypeError);
});

test("isPrivateAddress: a site's own networks, IPv4 and IPv6; public and non-addresses are not", () => {
  for (const ip of ["10.1.2.3", "127.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.9.9", "0.0.0.0", "::1", "fd12:3456::1", "fe80::1", "::ffff:10.0.0.1"])
    assert.equal(isPrivateAddress(ip), true, ip);
  for (const ip of ["172.32.0.1", "172.15.255.255", "192.169.0.1", "8.8.8.8", "2001:db8::1", "::ffff:8.8.8.8", "mail.example", "10.1.2.999", ""])
    assert.equal(isPrivateAddress(ip), false, ip);
});
