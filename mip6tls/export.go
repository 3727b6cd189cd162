package mip6tls

// Parameters returns the SA as §5.6 parameters in the order of §5.8 step
// 4 (scope, SPI, keys, validity end, ciphersuite), for a message other
// than the MN exchange's (the HAC→HA channel, docs/tls.md). The keys are
// copies the caller's message holds: zero them with the message.
func (sa *SecurityAssociation) Parameters() []Parameter { return sa.parameters() }

// Parameters returns the §5.7 parameters of b that are present.
func (b *Bootstrap) Parameters() []Parameter { return b.parameters() }
