"""DNS rebinding protection: addresses in private ranges removed from public names' answers.

Unbound's ``private-address`` / ``private-domain`` (unbound.conf(5)): private addresses
"are not allowed to be returned for public internet names.  Any occurrence of such
addresses are removed from DNS answers"; ``private-domain`` "Allow[s] this domain, and all
its subdomains to contain private addresses".  As Unbound's scrubber does it (iter_scrub.c
scrub_sanitize, iter_priv.c priv_rrset_bad), every A and AAAA RRset of a response, in any
section (glue too), whose owner is not under a private domain loses its records in a
private range; an RRset left empty goes with its signatures (so an answer left without
its address records is a NODATA; a referral's glue in a private range is not used).  A
signed RRset that lost some records keeps its signature, which then fails validation
("the DNSSEC validator may mark the answers bogus").  Empty: nothing is removed (the
default, as Unbound's).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import dns.message
import dns.name
import dns.rdatatype
import dns.rrset

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_ADDRESS_TYPES = (dns.rdatatype.A, dns.rdatatype.AAAA)


class PrivateAddressError(ValueError):
    """A private-address that is no address or network."""


def network(text: str) -> Network:
    """``10.0.0.0/8``, ``fd00::/8`` or one address (``192.0.2.1``: a /32 or /128); host
    bits set are allowed (``10.1.2.3/8`` is 10.0.0.0/8), as Unbound's netblock parser."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise PrivateAddressError(f"{text!r} is not an address or a network") from None


@dataclass(frozen=True)
class PrivateAddresses:
    """The private ranges and the domains allowed to hold them."""

    networks: tuple[Network, ...] = ()
    domains: tuple[dns.name.Name, ...] = ()

    @classmethod
    def parse(cls, networks: tuple[str, ...] | list[str],
              domains: tuple[str, ...] | list[str] = ()) -> PrivateAddresses:
        """From text (``PrivateAddressError``/``dns.exception.DNSException`` on bad input)."""
        return cls(tuple(network(n) for n in networks),
                   tuple(dns.name.from_text(d, origin=dns.name.root) for d in domains))

    def __bool__(self) -> bool:
        return bool(self.networks)

    def allowed(self, name: dns.name.Name) -> bool:
        """Whether ``name`` may hold private addresses (it is under a private domain)."""
        return any(name.is_subdomain(d) for d in self.domains)

    def private(self, address: str) -> bool:
        ip = ipaddress.ip_address(address)
        return any(ip.version == n.version and ip in n for n in self.networks)

    def remove_from(self, response: dns.message.Message) -> None:
        """Remove private addresses of public names from every section, in place."""
        if not self.networks:
            return
        for section in (response.answer, response.authority, response.additional):
            gone: set[tuple[dns.name.Name, int]] = set()
            kept: list[dns.rrset.RRset] = []
            for rrset in section:
                if rrset.rdtype in _ADDRESS_TYPES and not self.allowed(rrset.name):
                    public = [rd for rd in rrset if not self.private(rd.address)]
                    if not public:
                        gone.add((rrset.name, rrset.rdtype))
                        continue
                    if len(public) < len(rrset):
                        rrset = dns.rrset.from_rdata_list(rrset.name, rrset.ttl, public)
                kept.append(rrset)
            section[:] = [r for r in kept
                          if not (r.rdtype == dns.rdatatype.RRSIG and (r.name, r.covers) in gone)]
