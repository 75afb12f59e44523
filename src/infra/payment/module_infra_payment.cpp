// placeholder so the library is never empty
namespace tk { [[maybe_unused]] static int infra_payment_placeholder = 0; }
