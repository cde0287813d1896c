export const metadata = { title: "Checkout" };

export default function Layout({ children }) {
  return children;
}
