// Package config reads the TOML configuration files of the fhkey daemons:
// ARConfig for 'fhkey ar' (the access router of RFC 5269 §3.2, §3.5, §3.6
// and RFC 5568 §6.2.2) and MNConfig for 'fhkey mn' (the mobile node of RFC
// 5269 §3.1, §3.3, §3.4).
//
// Reading happens in three steps, kept apart so that tests and the
// '--check' mode can run each one:
//
//  1. Decode: strict TOML into a raw struct of strings and numbers. A
//     syntax error names its line; a key the raw struct does not know is an
//     error (MetaData.Undecoded), never silently ignored.
//  2. Validate: the raw values become real types (netip.Addr, netip.Prefix,
//     time.Duration, hokey.AlgorithmType, slog.Level) and every problem is
//     reported, all together, each naming its key path and line.
//  3. Open (ARConfig.Open, MNConfig.Open): the key, CGA, certificate and
//     trust anchor files are read and checked — private keys must not be
//     readable by group or others and must belong to the running user or
//     root, the CGA must be the key's, the router certificate path must
//     verify to a trust anchor and authorize the served prefixes.
//
// Relative file names in a configuration are taken relative to the
// directory of the configuration file. docs/deployment.md documents every
// key; examples/ar.toml and examples/mn.toml are the samples.
package config
