//! Runs each request on its own task and sends the answer back as an action, so a slow
//! daemon never blocks input or drawing.

use std::sync::Arc;
use tokio::sync::{Semaphore, mpsc};

use super::Client;
use crate::app::{Action, ApiReply, Request};

/// Enough for a screen's fetches plus a mutation; more would only pile up on a slow daemon.
const MAX_IN_FLIGHT: usize = 4;

#[derive(Clone)]
pub struct Worker {
    client: Client,
    tx: mpsc::UnboundedSender<Action>,
    limit: Arc<Semaphore>,
}

impl Worker {
    pub fn new(client: Client, tx: mpsc::UnboundedSender<Action>) -> Self {
        Worker {
            client,
            tx,
            limit: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
        }
    }

    pub fn spawn(&self, req: Request) {
        let this = self.clone();
        tokio::spawn(async move {
            // The semaphore is never closed; a failure here would mean it was.
            let Ok(_permit) = this.limit.acquire().await else {
                return;
            };
            let result = this.client.call(&req.call).await;
            // The receiver is gone only when the console is exiting.
            let _ = this.tx.send(Action::Api(Box::new(ApiReply {
                id: req.id,
                scope: req.scope,
                call: req.call,
                result,
            })));
        });
    }
}
