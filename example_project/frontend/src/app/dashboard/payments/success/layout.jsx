export const metadata = { title: "Payment confirmation" };

export default function Layout({ children }) {
  return children;
}
