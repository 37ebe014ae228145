//! The gRPC channel to buildkitd over the frontend's stdin/stdout.
//!
//! buildkitd starts the frontend with two pipes: it writes HTTP/2 frames into our stdin and reads
//! our stdout. It serves the LLBBridge with grpc-go's `ServeHTTP` on an HTTP/2 cleartext
//! connection (prior knowledge), which is exactly what tonic's hyper client speaks.
//!
//! * fds 0 and 1 are duplicated into `tokio::net::unix::pipe::{Receiver, Sender}` (non-blocking,
//!   epoll-registered) and joined into one duplex stream with `tokio::io::join`.
//! * If they are not pipes/FIFOs (e.g. a socketpair in tests), fd 0 is used as a `UnixStream`
//!   for both directions.
//! * The stream is handed to tonic's connector exactly **once**: tonic wraps connectors in a
//!   reconnecting service, and a second HTTP/2 session on the same fds would corrupt the wire.
//!   A reconnect attempt fails with `NotConnected` instead.
//!
//! **Nothing may ever write to stdout**: it is the wire. Log to stderr only.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, Join, ReadBuf};
use tokio::net::unix::pipe;
use tokio::net::UnixStream;
use tonic::transport::{Channel, Endpoint, Uri};
use tower::service_fn;

/// Max gRPC message size each way; matches buildkitd's server limits (16 MiB).
pub const MAX_MESSAGE_SIZE: usize = 16 << 20;

/// A duplex byte stream over the process's stdio.
pub enum StdioStream {
    /// stdin/stdout are pipes or FIFOs (what runc and containerd give us).
    Pipes(Join<pipe::Receiver, pipe::Sender>),
    /// stdin is a socket (stdout is assumed to be the same socket).
    Socket(UnixStream),
}

impl StdioStream {
    /// Duplicate fds 0 and 1 and wrap them for tokio. Must be called inside a tokio runtime.
    pub fn open() -> io::Result<StdioStream> {
        let rfd: OwnedFd = io::stdin().as_fd().try_clone_to_owned()?;
        let wfd: OwnedFd = io::stdout().as_fd().try_clone_to_owned()?;
        Self::from_fds(rfd, wfd)
    }

    /// Wrap a read fd and a write fd (pipes), falling back to a Unix socket on `rfd`.
    pub fn from_fds(rfd: OwnedFd, wfd: OwnedFd) -> io::Result<StdioStream> {
        let rfd_fallback = rfd.try_clone()?;
        match (
            pipe::Receiver::from_owned_fd(rfd),
            pipe::Sender::from_owned_fd(wfd),
        ) {
            (Ok(r), Ok(w)) => Ok(StdioStream::Pipes(tokio::io::join(r, w))),
            (Err(e), _) | (_, Err(e)) if e.kind() == io::ErrorKind::InvalidInput => {
                // Not a FIFO: try a socket (both directions on fd 0).
                let std_sock = std::os::unix::net::UnixStream::from(rfd_fallback);
                std_sock.set_nonblocking(true)?;
                Ok(StdioStream::Socket(UnixStream::from_std(std_sock)?))
            }
            (Err(e), _) | (_, Err(e)) => Err(e),
        }
    }
}

impl AsyncRead for StdioStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            StdioStream::Pipes(s) => Pin::new(s).poll_read(cx, buf),
            StdioStream::Socket(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for StdioStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            StdioStream::Pipes(s) => Pin::new(s).poll_write(cx, buf),
            StdioStream::Socket(s) => Pin::new(s).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            StdioStream::Pipes(s) => Pin::new(s).poll_flush(cx),
            StdioStream::Socket(s) => Pin::new(s).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            StdioStream::Pipes(s) => Pin::new(s).poll_shutdown(cx),
            StdioStream::Socket(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

/// Connect a tonic `Channel` over the given stream. The stream is handed out once.
pub async fn connect_stream<S>(stream: S) -> Result<Channel, tonic::transport::Error>
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let slot = Arc::new(Mutex::new(Some(stream)));
    // The URI is ignored by the connector; buildkitd needs no :authority.
    Endpoint::from_static("http://localhost")
        .connect_with_connector(service_fn(move |_: Uri| {
            let slot = slot.clone();
            async move {
                let taken = slot.lock().map(|mut s| s.take()).unwrap_or(None);
                taken.map(TokioIo::new).ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::NotConnected,
                        "stdio gRPC stream already used",
                    )
                })
            }
        }))
        .await
}

/// Connect a tonic `Channel` to buildkitd over this process's stdin/stdout.
pub async fn connect_stdio() -> Result<Channel, Box<dyn std::error::Error + Send + Sync>> {
    let stream = StdioStream::open()?;
    Ok(connect_stream(stream).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A fresh anonymous pipe as (read end, write end) owned fds.
    fn os_pipe() -> (OwnedFd, OwnedFd) {
        let (w, r) = pipe::pipe().expect("pipe");
        (
            r.into_nonblocking_fd().unwrap(),
            w.into_nonblocking_fd().unwrap(),
        )
    }

    #[tokio::test(flavor = "current_thread")]
    async fn pipes_are_joined_into_one_duplex_stream() {
        let (r1, w1) = os_pipe(); // peer -> us
        let (r2, w2) = os_pipe(); // us -> peer
        let mut s = StdioStream::from_fds(r1, w2).unwrap();
        assert!(matches!(s, StdioStream::Pipes(_)));
        let mut peer_w = pipe::Sender::from_owned_fd(w1).unwrap();
        let mut peer_r = pipe::Receiver::from_owned_fd(r2).unwrap();
        peer_w.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        s.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");
        s.write_all(b"pong").await.unwrap();
        peer_r.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"pong");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn non_pipes_fall_back_to_a_socket() {
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let fd = OwnedFd::from(a);
        let fd2 = fd.try_clone().unwrap();
        let mut s = StdioStream::from_fds(fd, fd2).unwrap();
        assert!(matches!(s, StdioStream::Socket(_)));
        b.set_nonblocking(true).unwrap();
        let mut peer = UnixStream::from_std(b).unwrap();
        peer.write_all(b"hi").await.unwrap();
        let mut buf = [0u8; 2];
        s.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hi");
    }
}
