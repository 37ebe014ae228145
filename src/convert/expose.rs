//! `EXPOSE` port specs, parsed like the stock frontend (`80`, `80/udp`, `8000-8002`,
//! `127.0.0.1:80:80` with a lint warning): each container port becomes `N/proto`.

use crate::error::Error;

/// Turn one expanded port word into `N/proto` entries.
pub fn parse_port(raw: &str) -> Result<Vec<String>, Error> {
    let parts: Vec<&str> = raw.split(':').collect();
    let (ip, host_port, container) = match parts.as_slice() {
        [c] => ("", "", *c),
        [h, c] => ("", *h, *c),
        [ip, h, c] => (*ip, *h, *c),
        _ => {
            // IPv6 host ip: everything but the last two parts.
            let n = parts.len();
            let ip = parts[..n - 2].join(":");
            return parse_split(raw, &ip, parts[n - 2], parts[n - 1]);
        }
    };
    parse_split(raw, ip, host_port, container)
}

fn parse_split(
    raw: &str,
    ip: &str,
    host_port: &str,
    container: &str,
) -> Result<Vec<String>, Error> {
    let (port, proto) = container.split_once('/').unwrap_or((container, ""));
    if port.is_empty() {
        return Err(Error::new(format!(
            "invalid port: \"{raw}\": no port specified"
        )));
    }
    let proto = match proto.to_ascii_lowercase().as_str() {
        "" => "tcp".to_string(),
        p @ ("tcp" | "udp" | "sctp") => p.to_string(),
        _ => {
            return Err(Error::new(format!(
                "invalid port: \"{raw}\": invalid proto: {proto}"
            )))
        }
    };
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    if !ip.is_empty() && ip.parse::<std::net::IpAddr>().is_err() {
        return Err(Error::new(format!("invalid IP address: {ip}")));
    }
    let (start, end) =
        port_range(port).map_err(|_| Error::new(format!("invalid containerPort: {port}")))?;
    if !host_port.is_empty() {
        let (hs, he) = port_range(host_port)
            .map_err(|_| Error::new(format!("invalid hostPort: {host_port}")))?;
        if end - start != he - hs && end != start {
            return Err(Error::new(format!(
                "invalid ranges specified for container and host Ports: {port} and {host_port}"
            )));
        }
    }
    Ok((start..=end).map(|p| format!("{p}/{proto}")).collect())
}

fn port_range(s: &str) -> Result<(u32, u32), ()> {
    let num = |x: &str| -> Result<u32, ()> {
        let n: i64 = x.parse().map_err(|_| ())?;
        if (0..=65535).contains(&n) {
            Ok(n as u32)
        } else {
            Err(())
        }
    };
    match s.split_once('-') {
        None => num(s).map(|p| (p, p)),
        Some((a, b)) if a == b => num(a).map(|p| (p, p)),
        Some((a, b)) => {
            let (a, b) = (num(a)?, num(b)?);
            if b < a {
                Err(())
            } else {
                Ok((a, b))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports() {
        assert_eq!(parse_port("80").unwrap(), vec!["80/tcp"]);
        assert_eq!(parse_port("53/UDP").unwrap(), vec!["53/udp"]);
        assert_eq!(
            parse_port("8000-8002/tcp").unwrap(),
            vec!["8000/tcp", "8001/tcp", "8002/tcp"]
        );
        assert_eq!(parse_port("127.0.0.1:80:8080").unwrap(), vec!["8080/tcp"]);
        assert!(parse_port("abc").is_err());
        assert!(parse_port("80/foo").is_err());
        assert!(parse_port("70000").is_err());
        assert!(parse_port("90-80").is_err());
    }
}
