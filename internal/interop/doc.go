// Package interop holds the interoperability tests of fhkey against
// independent implementations. TestTsharkSamples dissects every sample
// capture of package samples with tshark (Wireshark 4.0.17) and compares
// tshark's fields with the values that were encoded (issue 2, "tshark
// interop"). Its tables name the Wireshark field of every wire field and
// the known tshark faults that the test tolerates, each one exactly.
package interop
