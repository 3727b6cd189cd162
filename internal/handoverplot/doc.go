// Package handoverplot draws the figure handover measurements are shown
// with: the sequence numbers of a correspondent's datagram stream against
// their arrival times at the mobile node, one series per run, with the
// moments of the handover (the link change, the Fast Binding Update sent,
// the Fast Binding Acknowledgement received, RFC 5568 §5.1) as labelled
// vertical lines. Datagrams lost during the handover appear as a gap.
//
// It takes plain data (Figure) and writes SVG with gonum.org/v1/plot; it
// does no network I/O, so it is tested without root on synthetic data.
package handoverplot
