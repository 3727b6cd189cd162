// Package subscribers keeps the subscribers of the Handover Key Server
// (internal/hks): each one's NAI, Handover Master Key (draft-vidya-mipshop-
// handover-keys-aaa-04 §6.1), authorization and last accepted HKReq
// Timestamp (§5.2.3), behind the Store interface:
//
//   - Memory, for tests and the in-process demo;
//   - Bolt, one bbolt file (file mode 0600), the default of `fhkey hks`;
//   - Postgres (github.com/jackc/pgx/v5), which several HKS instances share
//     behind a FreeRADIUS pool: the last accepted Timestamp is advanced by
//     one atomic statement, so two instances cannot both accept a replay.
//
// HMKs are returned as fresh copies the caller zeroes; nothing is logged.
package subscribers
