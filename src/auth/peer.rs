//! Who is on the other end of a loopback TCP connection: on Linux, the owner of the client's
//! socket as the kernel lists it in `/proc/net/tcp` and `/proc/net/tcp6`. Elsewhere (or when
//! `/proc` cannot be read) nothing is known, and callers must not refuse on that alone.

use std::net::{IpAddr, SocketAddr};

/// The user id owning the socket that connected from `peer` to `local`, if it can be told.
pub(crate) fn owner(peer: SocketAddr, local: SocketAddr) -> Option<u32> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let table = match peer.ip() {
        IpAddr::V4(_) => "/proc/net/tcp",
        IpAddr::V6(_) => "/proc/net/tcp6",
    };
    let text = std::fs::read_to_string(table).ok()?;
    find_owner(&text, peer, local)
}

/// This process's effective user id.
#[cfg(unix)]
pub(crate) fn current_user() -> Option<u32> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    Some(unsafe { libc::geteuid() })
}

#[cfg(not(unix))]
pub(crate) fn current_user() -> Option<u32> {
    None
}

/// Finds the row whose local address is `peer` and remote address `local` (the client's end
/// of the connection) and returns its `uid` column.
fn find_owner(table: &str, peer: SocketAddr, local: SocketAddr) -> Option<u32> {
    let (want_local, want_remote) = (encode(peer), encode(local));
    table.lines().skip(1).find_map(|row| {
        let fields: Vec<&str> = row.split_whitespace().collect();
        let (l, r, uid) = (fields.get(1)?, fields.get(2)?, fields.get(7)?);
        (l.eq_ignore_ascii_case(&want_local) && r.eq_ignore_ascii_case(&want_remote))
            .then(|| uid.parse().ok())
            .flatten()
    })
}

/// An address as the kernel prints it: the address in 32-bit words of host byte order, each
/// as eight hex digits, then `:` and the port as four.
fn encode(addr: SocketAddr) -> String {
    let words: Vec<u32> = match addr.ip() {
        IpAddr::V4(ip) => vec![u32::from_ne_bytes(ip.octets())],
        IpAddr::V6(ip) => ip
            .octets()
            .chunks_exact(4)
            .map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    };
    let mut text: String = words.iter().map(|w| format!("{w:08X}")).collect();
    text.push_str(&format!(":{:04X}", addr.port()));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The client's row is found by its own address and the server's, whatever the order of
    /// rows; other rows (the server's end, listeners) are not taken for it.
    #[test]
    fn finds_the_clients_row() {
        let peer: SocketAddr = "127.0.0.1:41000".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let (p, l) = (encode(peer), encode(local));
        let table = format!(
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
             0: {l} 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 1\n\
             1: {l} {p} 01 00000000:00000000 00:00000000 00000000  1000 0 2\n\
             2: {p} {l} 01 00000000:00000000 00:00000000 00000000  4242 0 3\n"
        );
        assert_eq!(find_owner(&table, peer, local), Some(4242));
        assert_eq!(find_owner(&table, local, peer), Some(1000));
        let other: SocketAddr = "127.0.0.1:41001".parse().unwrap();
        assert_eq!(find_owner(&table, other, local), None);
    }

    /// A real connection on this machine is owned by this process's user.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_real_connection_is_ours() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (_server_side, peer) = listener.accept().unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        assert_eq!(
            owner(peer, listener.local_addr().unwrap()),
            current_user(),
            "{peer}"
        );
    }

    #[test]
    fn encodes_like_the_kernel() {
        if cfg!(target_endian = "little") {
            assert_eq!(encode("127.0.0.1:8080".parse().unwrap()), "0100007F:1F90");
            assert_eq!(
                encode("[::1]:443".parse().unwrap()),
                "00000000000000000000000001000000:01BB"
            );
        }
    }
}
