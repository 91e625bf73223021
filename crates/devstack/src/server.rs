//! Serving a router on a listener in a way that can be stopped for real: stopping closes the
//! listening socket and every open connection, as a killed process would.

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

/// A running server. Dropping it does not stop it; [`Server::stop`] does.
pub struct Server {
    task: JoinHandle<()>,
    /// The address it listens on.
    pub addr: std::net::SocketAddr,
}

impl Server {
    /// Serves `router` on `listener` in a background task.
    pub fn spawn(listener: TcpListener, router: Router) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let mut connections = JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let service = TowerToHyperService::new(router.clone());
                connections.spawn(async move {
                    let _ = Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
                while connections.try_join_next().is_some() {}
            }
        });
        Ok(Self { task, addr })
    }

    /// Stops listening and drops every connection (the task owns them all).
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}
