//! The Server Name Indication of a TLS ClientHello (RFC 8446 §4.1.2, RFC 6066 §3), read from
//! the first TLS record of a connection's first client payload.

/// Most extensions walked.
const MAX_EXTENSIONS: usize = 128;

/// `Some(sni)` when `payload` starts with a TLS handshake record holding a ClientHello;
/// the inner `Option` is the server name, when sent. Parsing stops at the end of `payload`
/// (a ClientHello split across segments yields what the first segment holds).
pub(crate) fn client_hello_sni(payload: &[u8]) -> Option<Option<String>> {
    // Record: type 22, version 3.x, length; handshake: type 1, 24-bit length.
    if payload.first() != Some(&22) || payload.get(1) != Some(&3) || payload.get(5) != Some(&1) {
        return None;
    }
    let mut pos = 9 + 2 + 32;
    let sid = usize::from(*payload.get(pos)?);
    pos += 1 + sid;
    let suites = be16(payload, pos)?;
    pos += 2 + suites;
    let comp = usize::from(*payload.get(pos)?);
    pos += 1 + comp;
    let Some(ext_len) = be16(payload, pos) else {
        return Some(None);
    };
    pos += 2;
    let end = pos + ext_len;
    for _ in 0..MAX_EXTENSIONS {
        if pos + 4 > end {
            break;
        }
        let (Some(t), Some(len)) = (be16(payload, pos), be16(payload, pos + 2)) else {
            break;
        };
        let data_at = pos + 4;
        if t == 0 {
            // server_name_list: length, then (type 0 host_name, length, name).
            if payload.get(data_at + 2) != Some(&0) {
                return Some(None);
            }
            let n = be16(payload, data_at + 3)?;
            let name = payload.get(data_at + 5..data_at + 5 + n)?;
            return Some(Some(String::from_utf8_lossy(name).to_lowercase()));
        }
        pos = data_at + len;
    }
    Some(None)
}

fn be16(b: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
    ])))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A minimal ClientHello record with one SNI.
    pub(crate) fn client_hello(sni: &str) -> Vec<u8> {
        let mut ext = Vec::new();
        ext.extend([0, 0]);
        ext.extend(((sni.len() + 5) as u16).to_be_bytes());
        ext.extend(((sni.len() + 3) as u16).to_be_bytes());
        ext.push(0);
        ext.extend((sni.len() as u16).to_be_bytes());
        ext.extend(sni.as_bytes());
        let mut body = vec![3, 3];
        body.extend([0u8; 32]);
        body.push(0);
        body.extend([0, 2, 0x13, 0x01, 1, 0]);
        body.extend((ext.len() as u16).to_be_bytes());
        body.extend(ext);
        let mut hs = vec![1, 0];
        hs.extend((body.len() as u16).to_be_bytes());
        hs.extend(body);
        let mut rec = vec![22, 3, 1];
        rec.extend((hs.len() as u16).to_be_bytes());
        rec.extend(hs);
        rec
    }

    #[test]
    fn sni() {
        let ch = client_hello("Testing.com");
        assert_eq!(client_hello_sni(&ch), Some(Some("testing.com".into())));
        assert_eq!(client_hello_sni(b"GET / HTTP/1.1"), None);
        for cut in 0..ch.len() {
            let _ = client_hello_sni(&ch[..cut]);
        }
    }
}
