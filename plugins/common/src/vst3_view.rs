//! The VST3 editor view, with the run-loop handler nice-plug leaks on Linux released.
//!
//! On Linux, nice-plug 0.4.2's VST3 view makes a `RunLoopEventHandler` each time the host
//! gives it a frame (`IPlugView::setFrame`): a socket pair, a task queue of about 160 KiB,
//! and an `IEventHandler` it registers with the host's `IRunLoop`. To unregister it later
//! it keeps a COM reference to itself, which nothing ever releases (its `Drop` says "this
//! never actually gets called"). So every time an editor opens and closes, 160 KiB and
//! two file descriptors are lost: measured as 243 KiB of heap per open/close in
//! DawDreamer (tests/tests/editor_host.rs), and after some hundreds of opens in a long
//! session a host would run out of file descriptors.
//!
//! [`ViewWrapper`] stands between the host and nice-plug's view. Every call goes straight
//! through, except `setFrame`: nice-plug gets a [`FrameProxy`] in place of the host's
//! frame, which forwards everything (`resizeView` naming this wrapper, the view the host
//! knows) and notes each event handler nice-plug registers with the run loop. When a
//! frame is replaced or the view goes, its handlers are unregistered from the host's run
//! loop and their self-reference is released, so nice-plug's own `Drop` runs: the
//! sockets are closed, any task left is handed to nice-plug's event loop, the queue is
//! freed. On other platforms nice-plug makes no such handler and the wrapper is not used.
//!
//! When nice-plug releases the handler itself (upstream: `wrapper/vst3/view.rs`,
//! `RunLoopEventHandler::new` and its `Drop`), this module can go.

use std::ffi::c_void;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Mutex;

use nice_plug::wrapper::vst3::vst3::Steinberg::Linux::{
    FileDescriptor, IEventHandler, IRunLoop, IRunLoopTrait, ITimerHandler, TimerInterval,
};
use nice_plug::wrapper::vst3::vst3::Steinberg::{
    char16, int16, kResultFalse, kResultOk, tresult, FIDString, IPlugFrame, IPlugFrameTrait,
    IPlugView, IPlugViewContentScaleSupport, IPlugViewContentScaleSupportTrait,
    IPlugViewContentScaleSupport_::ScaleFactor, IPlugViewTrait, TBool, ViewRect,
};
use nice_plug::wrapper::vst3::vst3::{Class, ComPtr, ComRef, ComWrapper};

/// The host's view of the editor: nice-plug's view with the frame proxied.
pub struct ViewWrapper {
    inner: ComPtr<IPlugView>,
    /// This wrapper's own `IPlugView` pointer, which `resizeView` must name (a host
    /// checks it is the view it holds). Set once, right after the wrapper is made.
    this: AtomicPtr<IPlugView>,
    /// The proxy nice-plug holds now, if any.
    frame: Mutex<Option<ComWrapper<FrameProxy>>>,
}

impl Class for ViewWrapper {
    type Interfaces = (IPlugView, IPlugViewContentScaleSupport);
}

impl ViewWrapper {
    /// Wraps the view nice-plug's `createView` returned (owning its reference) and returns
    /// the wrapper's own `IPlugView` pointer (one reference, the caller's), or null for a
    /// null view.
    ///
    /// # Safety
    ///
    /// `view` is null or a valid `IPlugView` pointer carrying one reference.
    pub unsafe fn wrap(view: *mut IPlugView) -> *mut IPlugView {
        // SAFETY: as the caller promises; the reference moves into the `ComPtr`.
        let Some(inner) = (unsafe { ComPtr::from_raw(view) }) else {
            return null_mut();
        };
        let wrapper = ComWrapper::new(ViewWrapper {
            inner,
            this: AtomicPtr::new(null_mut()),
            frame: Mutex::new(None),
        });
        let Some(ptr) = wrapper.to_com_ptr::<IPlugView>() else {
            return null_mut();
        };
        // Not a reference: the wrapper never outlives itself.
        wrapper.this.store(ptr.as_ptr(), Ordering::Release);
        ptr.into_raw()
    }

    fn frame(&self) -> std::sync::MutexGuard<'_, Option<ComWrapper<FrameProxy>>> {
        // GUI-thread calls only; a poisoned lock still holds a usable value.
        self.frame.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for ViewWrapper {
    fn drop(&mut self) {
        // nice-plug lets go of its frame and handler, then the handler is released.
        // SAFETY: a valid view; a null frame is the documented way to detach one.
        unsafe { self.inner.setFrame(null_mut()) };
        if let Some(old) = self.frame().take() {
            old.release_handlers();
            old.view.store(null_mut(), Ordering::Release);
        }
    }
}

impl IPlugViewTrait for ViewWrapper {
    unsafe fn isPlatformTypeSupported(&self, r#type: FIDString) -> tresult {
        // SAFETY (every forwarded call): the host's arguments go unchanged to the view
        // that expects them.
        unsafe { self.inner.isPlatformTypeSupported(r#type) }
    }

    unsafe fn attached(&self, parent: *mut c_void, r#type: FIDString) -> tresult {
        unsafe { self.inner.attached(parent, r#type) }
    }

    unsafe fn removed(&self) -> tresult {
        unsafe { self.inner.removed() }
    }

    unsafe fn onWheel(&self, distance: f32) -> tresult {
        unsafe { self.inner.onWheel(distance) }
    }

    unsafe fn onKeyDown(&self, key: char16, key_code: int16, modifiers: int16) -> tresult {
        unsafe { self.inner.onKeyDown(key, key_code, modifiers) }
    }

    unsafe fn onKeyUp(&self, key: char16, key_code: int16, modifiers: int16) -> tresult {
        unsafe { self.inner.onKeyUp(key, key_code, modifiers) }
    }

    unsafe fn getSize(&self, size: *mut ViewRect) -> tresult {
        unsafe { self.inner.getSize(size) }
    }

    unsafe fn onSize(&self, new_size: *mut ViewRect) -> tresult {
        unsafe { self.inner.onSize(new_size) }
    }

    unsafe fn onFocus(&self, state: TBool) -> tresult {
        unsafe { self.inner.onFocus(state) }
    }

    unsafe fn setFrame(&self, frame: *mut IPlugFrame) -> tresult {
        // SAFETY: the host's frame, valid for this call; `to_com_ptr` takes a reference.
        let proxy = unsafe { ComRef::from_raw(frame) }.map(|host| {
            let host = host.to_com_ptr();
            let run_loop = host.cast::<IRunLoop>();
            ComWrapper::new(FrameProxy {
                host,
                run_loop,
                view: AtomicPtr::new(self.this.load(Ordering::Acquire)),
                handlers: Mutex::new(Vec::new()),
            })
        });
        let result = match &proxy {
            Some(proxy) if proxy.run_loop.is_some() => {
                let ptr = proxy.to_com_ptr::<IPlugFrame>();
                // SAFETY: our proxy, alive for the call (nice-plug takes its own reference).
                unsafe { self.inner.setFrame(ptr.map_or(null_mut(), |p| p.as_ptr())) }
            }
            // A host without a run loop: nice-plug makes no handler, and a proxy without
            // `IRunLoop` would be a second class for nothing; it gets the host's frame.
            _ => unsafe { self.inner.setFrame(frame) },
        };
        // Whatever nice-plug registered through the frame before is stale now.
        let old = std::mem::replace(&mut *self.frame(), proxy);
        if let Some(old) = old {
            old.release_handlers();
        }
        result
    }

    unsafe fn canResize(&self) -> tresult {
        unsafe { self.inner.canResize() }
    }

    unsafe fn checkSizeConstraint(&self, rect: *mut ViewRect) -> tresult {
        unsafe { self.inner.checkSizeConstraint(rect) }
    }
}

impl IPlugViewContentScaleSupportTrait for ViewWrapper {
    unsafe fn setContentScaleFactor(&self, factor: ScaleFactor) -> tresult {
        match self.inner.cast::<IPlugViewContentScaleSupport>() {
            // SAFETY: forwarded unchanged.
            Some(scale) => unsafe { scale.setContentScaleFactor(factor) },
            None => kResultFalse,
        }
    }
}

/// The frame nice-plug's view is given: the host's frame and run loop, with the event
/// handlers registered through it noted, so they can be released.
pub struct FrameProxy {
    host: ComPtr<IPlugFrame>,
    run_loop: Option<ComPtr<IRunLoop>>,
    /// The wrapper's view pointer for `resizeView`; null once the wrapper is gone.
    view: AtomicPtr<IPlugView>,
    /// Handlers registered through this proxy and not yet unregistered (as addresses).
    handlers: Mutex<Vec<usize>>,
}

impl Class for FrameProxy {
    type Interfaces = (IPlugFrame, IRunLoop);
}

impl FrameProxy {
    fn handlers(&self) -> std::sync::MutexGuard<'_, Vec<usize>> {
        self.handlers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Unregisters every handler registered through this proxy from the host's run
    /// loop, then drops the one reference nice-plug's handler keeps to itself, so its
    /// `Drop` runs (it then calls `unregisterEventHandler` here once more, which finds
    /// nothing left to do).
    fn release_handlers(&self) {
        let handlers = std::mem::take(&mut *self.handlers());
        for handler in handlers {
            let handler = handler as *mut IEventHandler;
            if let Some(run_loop) = &self.run_loop {
                // SAFETY: a handler the host's run loop was given through this proxy.
                unsafe { run_loop.unregisterEventHandler(handler) };
            }
            // SAFETY: nice-plug's handler holds one reference to itself, taken with
            // `to_com_ptr().into_raw()` when it registered, and never released; this
            // takes it over and releases it. nice-plug's own reference went when it
            // replaced or dropped the handler, before this runs (in `setFrame` or the
            // wrapper's `Drop`, after the view's `setFrame`).
            drop(unsafe { ComPtr::from_raw(handler) });
        }
    }
}

impl IPlugFrameTrait for FrameProxy {
    unsafe fn resizeView(&self, _view: *mut IPlugView, new_size: *mut ViewRect) -> tresult {
        let view = self.view.load(Ordering::Acquire);
        if view.is_null() {
            return kResultFalse;
        }
        // SAFETY: the host's frame, and the view it holds (this proxy's wrapper, alive
        // while the pointer is set).
        unsafe { self.host.resizeView(view, new_size) }
    }
}

impl IRunLoopTrait for FrameProxy {
    unsafe fn registerEventHandler(
        &self,
        handler: *mut IEventHandler,
        fd: FileDescriptor,
    ) -> tresult {
        let Some(run_loop) = &self.run_loop else {
            return kResultFalse;
        };
        // SAFETY: forwarded unchanged.
        let result = unsafe { run_loop.registerEventHandler(handler, fd) };
        if result == kResultOk {
            self.handlers().push(handler as usize);
        }
        result
    }

    unsafe fn unregisterEventHandler(&self, handler: *mut IEventHandler) -> tresult {
        let mut handlers = self.handlers();
        let Some(i) = handlers.iter().position(|&h| h == handler as usize) else {
            // Already unregistered by `release_handlers`.
            return kResultOk;
        };
        handlers.swap_remove(i);
        drop(handlers);
        match &self.run_loop {
            // SAFETY: forwarded unchanged.
            Some(run_loop) => unsafe { run_loop.unregisterEventHandler(handler) },
            None => kResultFalse,
        }
    }

    unsafe fn registerTimer(&self, handler: *mut ITimerHandler, ms: TimerInterval) -> tresult {
        match &self.run_loop {
            // SAFETY: forwarded unchanged.
            Some(run_loop) => unsafe { run_loop.registerTimer(handler, ms) },
            None => kResultFalse,
        }
    }

    unsafe fn unregisterTimer(&self, handler: *mut ITimerHandler) -> tresult {
        match &self.run_loop {
            // SAFETY: forwarded unchanged.
            Some(run_loop) => unsafe { run_loop.unregisterTimer(handler) },
            None => kResultFalse,
        }
    }
}
