//! The two traits between the relay and what stands behind it: an [`Upstream`] takes the
//! host's messages, an [`Inbound`] hands over what the server has for the host. They live
//! beneath both so that the relay and the era layer each depend on them, not on each other.

use crate::jsonrpc::Message;
use tokio::sync::mpsc;

/// Capacity of each channel between the relay's tasks and the upstream's; a full channel
/// stops the side feeding it.
pub(crate) const CHANNEL_CAPACITY: usize = 64;

/// Where the host's messages go: the server side of the bridge.
pub(crate) trait Upstream: Send {
    /// Why the upstream cannot continue.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Takes one message from the host, in stdin order. Per-request failures are answered on
    /// the inbound side; `Err` means the connection cannot continue at all.
    fn send(&mut self, msg: Message) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Resolves once the upstream has failed for good.
    fn failed(&self) -> impl Future<Output = Self::Error> + Send;

    /// Ends the connection (bounded in time).
    fn close(&mut self) -> impl Future<Output = ()> + Send;

    /// Keeps an idle connection alive (with a `ping` of the bridge's own, say); called after
    /// the relay's keepalive interval without a message either way. Must not wait for an answer.
    fn keepalive(&mut self) -> impl Future<Output = ()> + Send;
}

/// What the upstream has for the host: answers, server requests and notifications.
pub(crate) trait Inbound: Send + 'static {
    /// The next message for the host; `None` once the upstream side is done.
    fn recv(&mut self) -> impl Future<Output = Option<Message>> + Send;
}

impl Inbound for mpsc::Receiver<Message> {
    async fn recv(&mut self) -> Option<Message> {
        mpsc::Receiver::recv(self).await
    }
}
