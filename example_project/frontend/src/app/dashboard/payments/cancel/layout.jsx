export const metadata = { title: "Payment cancelled" };

export default function Layout({ children }) {
  return children;
}
