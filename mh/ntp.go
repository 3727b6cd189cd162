package mh

import "time"

// NTPTimestamp is the 64-bit timestamp of RFC 4285 §6 and draft §5.2.3:
// "a 64-bit value formatted as specified by the Network Time Protocol",
// 32 bits of seconds since 1900-01-01 00:00 UTC followed by 32 bits of
// fraction. The raw value is kept so that the low-order bits, which RFC
// 4285 §6 says SHOULD be random where no clock supplies them, survive a
// round trip exactly.
type NTPTimestamp uint64

// ntpEpochOffset is the number of seconds from 1900-01-01 to 1970-01-01.
const ntpEpochOffset = 2208988800

// NTPTime converts t to an NTPTimestamp. Times from 2036-02-07 onwards wrap
// into NTP era 1, as RFC 4330 §3 describes.
func NTPTime(t time.Time) NTPTimestamp {
	secs := t.Unix() + ntpEpochOffset
	frac := (uint64(t.Nanosecond()) << 32) / uint64(time.Second)
	return NTPTimestamp(uint64(uint32(secs))<<32 | frac)
}

// Seconds returns the 32-bit seconds field.
func (ts NTPTimestamp) Seconds() uint32 { return uint32(ts >> 32) }

// Fraction returns the 32-bit fraction field.
func (ts NTPTimestamp) Fraction() uint32 { return uint32(ts) }

// Time converts ts to a time.Time (UTC). Following RFC 4330 §3, a seconds
// field with the most significant bit clear is taken to be in era 1
// (2036-2104) and one with it set in era 0 (1968-2036).
func (ts NTPTimestamp) Time() time.Time {
	secs := int64(ts.Seconds())
	if secs&0x80000000 == 0 {
		secs += 1 << 32
	}
	nsec := (uint64(ts.Fraction()) * uint64(time.Second)) >> 32
	return time.Unix(secs-ntpEpochOffset, int64(nsec)).UTC()
}
