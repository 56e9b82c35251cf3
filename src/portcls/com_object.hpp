#pragma once
// The IUnknown half of every port-class object: an atomic reference count that destroys the
// object when it drops to zero, and QueryInterface answering for IUnknown and the one interface
// the object implements.

#include <atomic>

#include "portcls.h"

namespace irqsim::portcls {

template <class Interface>
inline const IID& interface_id();
template <>
inline const IID& interface_id<IResourceList>() {
  return IID_IResourceList;
}
template <>
inline const IID& interface_id<IInterruptSync>() {
  return IID_IInterruptSync;
}

template <class Interface>
class ComObject : public Interface {
 public:
  ComObject() = default;
  ComObject(const ComObject&) = delete;
  ComObject& operator=(const ComObject&) = delete;

  NTSTATUS QueryInterface(REFIID InterfaceId, PVOID* Object) override {
    if (Object == nullptr) return STATUS_INVALID_PARAMETER;
    if (!IsEqualIID(InterfaceId, IID_IUnknown) && !IsEqualIID(InterfaceId, interface_id<Interface>())) {
      *Object = nullptr;
      return STATUS_INVALID_PARAMETER;
    }
    AddRef();
    *Object = static_cast<Interface*>(this);
    return STATUS_SUCCESS;
  }
  ULONG AddRef() override { return references_.fetch_add(1, std::memory_order_relaxed) + 1; }
  ULONG Release() override {
    const ULONG left = references_.fetch_sub(1, std::memory_order_acq_rel) - 1;
    if (left == 0) destroy();
    return left;
  }

 protected:
  virtual ~ComObject() = default;
  // What the last Release does. An object whose teardown calls the kernel (and may therefore
  // bug-check, which unwinds by exception) does it here rather than in its destructor.
  virtual void destroy() { delete this; }

 private:
  // The creator's reference.
  std::atomic<ULONG> references_{1};
};

}  // namespace irqsim::portcls
