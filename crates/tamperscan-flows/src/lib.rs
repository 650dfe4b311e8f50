//! Readers for network telemetry into tamperscan's flow records ([`model`]).
//!
//! Sources: Zeek TSV logs ([`zeek`]), Zeek JSON logs ([`zeek_json`]), pcap and pcapng
//! captures ([`capture`]) assembled into flows the way Zeek does ([`flow`]), and the packet
//! CSV of the C2-frameworks lab ([`packet_csv`]). Every parser takes bytes and does no I/O;
//! [`io`] opens files and directories (gzip sniffed), streams them in bounded chunks and hands
//! records to a callback.
//!
//! **Invariant:** no parser allocates in proportion to a length it read from the input without
//! a bound; every count and length has a limit, and errors carry the line or byte offset.
#![forbid(unsafe_code)]
#![warn(clippy::indexing_slicing)]

pub mod capture;
mod dns_message;
pub mod error;
pub mod flow;
mod http_request;
pub mod io;
pub mod model;
mod packet;
pub mod packet_csv;
mod reader;
mod text;
mod tls_client_hello;
pub mod zeek;
pub mod zeek_json;

pub use error::{Error, Location, Mode, Options, ReadStats};
pub use model::{Conn, ConnState, ConnStateOther, Dns, Http, Proto, Record, Ssl};
