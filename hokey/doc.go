// Package hokey holds handover keys and the authenticators computed with
// them: the algorithm-type (AT) registry that RFC 5269 and RFC 5568 leave
// undefined (see docs/handover-keys.md), the Key type, and the Binding
// Authorization Data for FMIPv6 (BADF) Authenticator of RFC 5568 §6.4.5,
// which is "the same as in RFC 3775, with 'correspondent' replaced by the
// PAR's IP address, and Kbm replaced by the shared key between the MN and
// the PAR" (RFC 6275 §6.2.7).
//
// For the shared-key (AAA) mode of draft-vidya-mipshop-handover-keys-aaa-04
// it holds gprf+ and the derivation of the Handover Integrity Key and the
// Handover Key (§6.1: GPRFPlus, DeriveHIK, DeriveHK), the PRF and MAC
// algorithm registries, and the MN-HKS and MN-AR MAC options of the HKReq
// and HKResp computed and verified over the received bytes (SignMACs,
// VerifyMAC); the conventions are fixed in docs/aaa.md.
//
// For the MSK mode of issue 12 (draft-li-mipshop-fbu-sec-00) it holds
// prf+ of RFC 7296 §2.13 (PRFPlus), the fast handover key derived from the
// EAP MSK (DeriveFHK), and the RFC 4285 §5.1 MN-HA Mobility Message
// Authentication option of the FBU and FBack with one SPI per AT (SignFHK,
// VerifyFHK); the conventions are fixed in docs/msk.md.
//
// It does no I/O and never logs.
package hokey
