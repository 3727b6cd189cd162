package radius

import (
	"fmt"
	"strings"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2869"
	"layeh.com/radius/rfc3162"
)

// VendorID is the SMI Private Enterprise Number of fhkey's vendor-specific
// attributes (RFC 2865 §5.26): 32473, "Example Enterprise Number for
// Documentation Use" (RFC 5612). It is a placeholder: an operator with a
// number of their own changes it here and in examples/dictionary.fhkey
// together (TestDictionaryMatches compares them).
const VendorID = 32473

// VendorName is the vendor's name in examples/dictionary.fhkey.
const VendorName = "fhkey"

// VendorType is the type of one of fhkey's vendor-specific attributes.
type VendorType uint8

// fhkey's vendor-specific attributes (examples/dictionary.fhkey). Each is
// carried in the RFC 2865 §5.26 recommended format: Vendor-Id, Vendor type
// (1 octet), Vendor length (1 octet), value.
const (
	// AttrHKReq (octets) is the HKReq Mobility Header exactly as the AR
	// received it. One attribute holds at most 247 octets: a longer HKReq
	// is split over consecutive instances, concatenated in order (as RFC
	// 3579 §3.1 does for EAP-Message). Access-Request.
	AttrHKReq VendorType = 1
	// AttrARID (ipv6addr) is the AR ID: the AR's address as the MN sees it
	// (draft §6.1.2). Access-Request.
	AttrARID VendorType = 2
	// AttrHKSNonce (octets) is the HKS-Nonce that went into the HK.
	// Access-Accept.
	AttrHKSNonce VendorType = 3
	// AttrHandoverKey (octets, encrypt=2) is the HK, salt-encrypted as
	// RFC 2548 §2.4.2 encrypts MS-MPPE-Send-Key (EncryptKey). Access-Accept.
	AttrHandoverKey VendorType = 4
	// AttrKeyLifetime (integer) is the HK's lifetime in seconds.
	// Access-Accept.
	AttrKeyLifetime VendorType = 5
	// AttrHKResp (octets) is a whole error HKResp for the AR to relay
	// (docs/aaa.md, HKS errors); split like AttrHKReq. Access-Reject.
	AttrHKResp VendorType = 6
	// AttrStatus (integer) is the draft's status code of a refusal
	// (§5.1.2, 0–65535). Access-Reject.
	AttrStatus VendorType = 7
)

// Standard attributes the package uses (RFC 2865, RFC 2869, RFC 3162).
const (
	typeUserName             = rfc2865.UserName_Type
	typeNASIPAddress         = rfc2865.NASIPAddress_Type
	typeNASIdentifier        = rfc2865.NASIdentifier_Type
	typeProxyState           = rfc2865.ProxyState_Type
	typeVendorSpecific       = rfc2865.VendorSpecific_Type
	typeMessageAuthenticator = rfc2869.MessageAuthenticator_Type
	typeNASIPv6Address       = rfc3162.NASIPv6Address_Type
)

// DictionaryAttribute describes one vendor-specific attribute as the
// FreeRADIUS dictionary declares it.
type DictionaryAttribute struct {
	Name    string
	Type    VendorType
	Kind    string // FreeRADIUS data type: octets, ipv6addr, integer
	Encrypt int    // FreeRADIUS encrypt= flag (2: RFC 2868/2548 salt encryption), 0 if none
}

// Dictionary lists fhkey's vendor-specific attributes in the order of
// examples/dictionary.fhkey.
var Dictionary = []DictionaryAttribute{
	{"FHkey-HKReq", AttrHKReq, "octets", 0},
	{"FHkey-AR-ID", AttrARID, "ipv6addr", 0},
	{"FHkey-HKS-Nonce", AttrHKSNonce, "octets", 0},
	{"FHkey-Handover-Key", AttrHandoverKey, "octets", 2},
	{"FHkey-Key-Lifetime", AttrKeyLifetime, "integer", 0},
	{"FHkey-HKResp", AttrHKResp, "octets", 0},
	{"FHkey-Status", AttrStatus, "integer", 0},
}

// String returns the attribute's dictionary name.
func (t VendorType) String() string {
	for _, a := range Dictionary {
		if a.Type == t {
			return a.Name
		}
	}
	return fmt.Sprintf("FHkey-Attr-%d", uint8(t))
}

// attrName names a standard attribute in errors.
func attrName(t radius.Type) string {
	switch t {
	case typeUserName:
		return "User-Name"
	case typeNASIPAddress:
		return "NAS-IP-Address"
	case typeNASIdentifier:
		return "NAS-Identifier"
	case typeProxyState:
		return "Proxy-State"
	case typeVendorSpecific:
		return "Vendor-Specific"
	case typeMessageAuthenticator:
		return "Message-Authenticator"
	case typeNASIPv6Address:
		return "NAS-IPv6-Address"
	}
	return fmt.Sprintf("Attr-%d", int(t))
}

// FreeRADIUSDictionary is examples/dictionary.fhkey without its comments,
// generated from Dictionary and VendorID: what a FreeRADIUS or radclient
// started by fhkey itself (`fhkey bench hks`) loads.
func FreeRADIUSDictionary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "VENDOR\t%s\t%d\nBEGIN-VENDOR\t%s\n", VendorName, VendorID, VendorName)
	for _, a := range Dictionary {
		fmt.Fprintf(&b, "ATTRIBUTE\t%s\t%d\t%s", a.Name, a.Type, a.Kind)
		if a.Encrypt != 0 {
			fmt.Fprintf(&b, "\tencrypt=%d", a.Encrypt)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "END-VENDOR\t%s\n", VendorName)
	return b.String()
}
