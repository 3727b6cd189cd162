package radius

import "errors"

// Errors. Each error of the package wraps one of these sentinels; parse
// errors name the attribute at fault.
var (
	// ErrMalformed: a packet or attribute that does not parse (a
	// truncated attribute also wraps io.ErrUnexpectedEOF).
	ErrMalformed = errors.New("radius: malformed")
	// ErrAttribute: an attribute that parses but is missing, repeated,
	// oversized or of the wrong length for what it carries.
	ErrAttribute = errors.New("radius: bad attribute")
	// ErrMessageAuthenticator: a Message-Authenticator missing or not
	// verifying (RFC 3579 §3.2: such a packet is silently discarded).
	ErrMessageAuthenticator = errors.New("radius: Message-Authenticator missing or wrong")
	// ErrAuthenticator: a Response Authenticator that does not verify.
	ErrAuthenticator = errors.New("radius: Response Authenticator wrong")
	// ErrUnknownRealm: RequestKey for an NAI whose realm has no home
	// server and no default route; nothing was sent.
	ErrUnknownRealm = errors.New("radius: no home server for the realm")
	// ErrTooManyPending: RequestKey refused at once because the bound on
	// pending requests (or a socket's 256 Identifiers) is reached.
	ErrTooManyPending = errors.New("radius: too many pending requests")
	// ErrConfig: a configuration the Client or Server cannot run with.
	ErrConfig = errors.New("radius: configuration")
	// ErrClosed: the Client is closed.
	ErrClosed = errors.New("radius: client closed")
)
